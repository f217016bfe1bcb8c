/**
 * Secret redaction for everything the engine shows outside its tables (the Stately inspector,
 * the statechart page, session history): passwords, tokens and payment method data are replaced
 * by `[REDACTED]` wherever they appear, at any depth of an event, an input or an output.
 */

/** The text that replaces a secret. */
export const REDACTED = '[REDACTED]';

// Field names (any case, any position in a camelCase or snake_case name) that carry secrets.
const SECRET_KEY =
  /pass(word)?|secret|token|authori[sz]ation|cookie|payment_?method|card|cvv|cvc|iban|account_?number|pan$|^pan|signature|credential|api_?key/i;

/** Whether a field name carries a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A deep copy of `value` with every secret-named field's value replaced by `[REDACTED]`
 * (objects and arrays at any depth; cycles cut; depth capped at 20).
 */
export function redactSecrets<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v) || depth > 20) return REDACTED;
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSecretKey(k) && x !== null && x !== undefined ? REDACTED : walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
