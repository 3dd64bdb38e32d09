import type { BinaryOp } from '../ast.js';

/** Go's math.Mod: the result has the sign of the dividend, like JS `%`. */
export function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      return compare(op, l, r) ? 1 : 0;
  }
}

/** Go's math.Pow differs from JS `**` for 1^±Inf and (-1)^±Inf, which Go defines as 1. */
function goPow(x: number, y: number): number {
  if ((x === 1 || x === -1) && (y === Infinity || y === -Infinity)) return 1;
  if (x === 1) return 1;
  return x ** y;
}

export function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      return false;
  }
}
