/** A UTF-16 surrogate without its pair: valid in a JS string and in JSON text, but not Unicode (and not hashable). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string is well-formed Unicode. */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/** The JSON path of the first string (key or value) in a parsed JSON value that is not well-formed, or null. */
export function findLoneSurrogate(value: unknown, path = ""): string | null {
  if (typeof value === "string") return isWellFormed(value) ? null : path || "(body)";
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findLoneSurrogate(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const at = path ? `${path}.${k}` : k;
      if (!isWellFormed(k)) return at;
      const found = findLoneSurrogate(v, at);
      if (found) return found;
    }
  }
  return null;
}
