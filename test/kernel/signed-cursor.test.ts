import { describe, expect, it } from "vitest";
import { ValidationError } from "../../shared/errors.ts";
import { cursorSigningKey, openCursor, sealCursor } from "../../shared/kernel/signed-cursor.ts";

// The list cursors' seal on its own (the HTTP answers to forged and foreign cursors are in test/api-fuzz.test.ts).
describe("signed cursors", () => {
  const key = cursorSigningKey("sha256:platform-key-hash");
  const position = { pk: "ORG#acme#RUNS", sk: "R#0001" };
  const runs = '["table",null,"pk = :p",null,{":p":"ORG#acme#RUNS"}]';

  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof ValidationError ? err.details : err;
    }
    return "accepted";
  };

  it("gives back the position it sealed, for the same list and key", () => {
    expect(openCursor(sealCursor(position, runs, key), runs, key)).toEqual(position);
  });

  it("refuses a cursor of another list or org, another deployment's, an edited one and junk, naming cursor", () => {
    const cursor = sealCursor(position, runs, key);
    const [payload, mac] = cursor.split(".") as [string, string];
    const edited = `${Buffer.from(JSON.stringify({ ...position, pk: "ORG#globex#RUNS" })).toString("base64url")}.${mac}`;
    const attempts = [
      () => openCursor(cursor, runs.replace("acme", "globex"), key),
      () => openCursor(cursor, runs, cursorSigningKey("another deployment")),
      () => openCursor(edited, runs, key),
      () => openCursor(payload, runs, key),
      () => openCursor("eyJhIjoxfQ", runs, key),
      () => openCursor(`${cursor}.x`, runs, key),
      () => openCursor("", runs, key),
    ];
    for (const attempt of attempts)
      expect(refusal(attempt)).toEqual([{ path: "cursor", message: "not a cursor this list returned" }]);
  });
});
