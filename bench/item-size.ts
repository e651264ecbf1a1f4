/** DynamoDB item sizes and write units, as DynamoDB counts them (the bench's WRU estimate). */

/** A DynamoDB attribute value in the wire format ({"S": "…"}, {"N": "1"}, {"M": {…}}, …). */
export type AttributeValue = Record<string, unknown>;

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * The size DynamoDB bills an attribute value at, by the documented rules (Developer Guide, "Item sizes and formats"):
 * strings and binaries by their bytes, numbers ~1 byte per 2 significant digits + 1, null and booleans 1 byte,
 * lists and maps 3 bytes plus 1 byte per element plus their elements (and, for maps, the key names).
 */
export function attributeValueBytes(value: AttributeValue): number {
  const [type, v] = Object.entries(value)[0] ?? ["NULL", true];
  switch (type) {
    case "S":
      return utf8Bytes(String(v));
    case "N": {
      // Leading and trailing zeros are trimmed; about one byte per two significant digits, plus one.
      const mantissa = String(v)
        .replace(/^[-+]/, "")
        .replace(/[eE].*$/, "")
        .replace(".", "");
      const significant = mantissa.replace(/^0+/, "").replace(/0+$/, "").length;
      return Math.ceil(Math.max(1, significant) / 2) + 1;
    }
    case "B":
      return typeof v === "string" ? Buffer.from(v, "base64").length : ((v as Uint8Array | undefined)?.length ?? 0);
    case "BOOL":
    case "NULL":
      return 1;
    case "SS":
      return (v as string[]).reduce((n, x) => n + utf8Bytes(x), 0);
    case "NS":
      return (v as string[]).reduce((n, x) => n + attributeValueBytes({ N: x }), 0);
    case "BS":
      return (v as string[]).reduce((n, x) => n + attributeValueBytes({ B: x }), 0);
    case "L":
      return 3 + (v as AttributeValue[]).reduce((n, x) => n + 1 + attributeValueBytes(x), 0);
    case "M":
      return (
        3 +
        Object.entries(v as Record<string, AttributeValue>).reduce(
          (n, [k, x]) => n + 1 + utf8Bytes(k) + attributeValueBytes(x),
          0,
        )
      );
    default:
      return 0;
  }
}

/** An item's size as DynamoDB counts it: attribute names plus values. */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [k, v]) => n + utf8Bytes(k) + attributeValueBytes(v), 0);
}

/** Write request units of a standard (non-transactional) write of an item: one per started KB, at least one. */
export function writeUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / 1024));
}
