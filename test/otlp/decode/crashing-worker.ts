// The real decoding worker, except that a JSON body reading CRASH ends its thread.
import './crash-on-marker.js';
import '../../../src/otlp/decode/worker.js';
