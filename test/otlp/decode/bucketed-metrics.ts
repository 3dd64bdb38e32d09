/**
 * A histogram, an exponential histogram and a summary of one point each, in the .proto's field
 * names: the kinds every decoder must read alike, for the tests that compare decoders.
 */
export const BUCKETED_METRICS: object[] = [
  { name: 'h', histogram: { aggregation_temporality: 2, data_points: [{ count: 3, sum: 4, bucket_counts: [1, 2], explicit_bounds: [1] }] } },
  {
    name: 'e',
    exponential_histogram: {
      aggregation_temporality: 2,
      data_points: [
        {
          count: 3,
          scale: -2,
          zero_count: 1,
          zero_threshold: 0.5,
          positive: { offset: -3, bucket_counts: [2] },
          negative: { offset: 1, bucket_counts: [] },
        },
      ],
    },
  },
  { name: 'q', summary: { data_points: [{ count: 2, sum: 3, quantile_values: [{ quantile: 0.5, value: 1 }] }] } },
];
