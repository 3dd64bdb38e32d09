/** The flags' types, widened from the defaults' literals (`false` to boolean, `600` to number). */
export type Flags<T extends Record<string, number | boolean>> = { [K in keyof T]: T[K] extends boolean ? boolean : number };

/** `--name value` and `--name=value` flags of a script, as numbers or booleans; unknown flags are errors. */
export function parseFlags<T extends Record<string, number | boolean>>(argv: readonly string[], defaults: T): Flags<T> {
  const out: Record<string, number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!(name in defaults)) throw new Error(`unknown flag ${arg}; known: ${Object.keys(defaults).join(', ')}`);
    if (typeof defaults[name] === 'boolean') {
      out[name] = eq === -1 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    const text = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    const n = Number(text);
    if (text === undefined || !Number.isFinite(n)) throw new Error(`flag ${arg} needs a number`);
    out[name] = n;
  }
  return out as Flags<T>;
}
