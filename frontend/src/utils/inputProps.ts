/**
 * Attributes for the native <input> inside a Naive UI NInput (its
 * `input-props` type does not admit data-* attributes).
 */
export function inputProps(testid: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'data-testid': testid, ...extra }
}
