/** An upstream's quote of the credential it was sent, whole or masked as OpenAI masks it, is cut out. */
import { expect, test } from "bun:test";
import { rememberCredentials, scrubCredentials } from "../../src/core/credential-scrub.ts";

test("whole, masked and JSON-held credentials are cut out; other text is left alone", () => {
  rememberCredentials("scrub-a", { api_key: "sk-upstream-secret-1234567890", region: "us-east-1" });
  rememberCredentials("scrub-b", { service_account: JSON.stringify({ private_key: "-----BEGIN KEY-----abc", client_email: "x@y.iam" }) });
  expect(scrubCredentials("scrub-a", "You sent: Bearer sk-upstream-secret-1234567890")).toBe("You sent: Bearer <redacted>");
  expect(scrubCredentials("scrub-a", "Incorrect API key provided: sk-upstr**********7890.")).toBe("Incorrect API key provided: <redacted>.");
  expect(scrubCredentials("scrub-a", "key sk-ups...7890 was refused")).toBe("key <redacted> was refused");
  // short values are not secrets; a mask too short to be this key's stays
  expect(scrubCredentials("scrub-a", "region us-east-1; sk-up***.; 7890 tokens")).toBe("region us-east-1; sk-up***.; 7890 tokens");
  expect(scrubCredentials("scrub-b", "bad key -----BEGIN KEY-----abc for x@y.iam")).toBe("bad key <redacted> for x@y.iam");
  // another account's credential is not this one's
  expect(scrubCredentials("scrub-b", "sk-upstream-secret-1234567890")).toBe("sk-upstream-secret-1234567890");
});

test("the streaming scrubber cuts a value split across reads and holds back only what could begin one", async () => {
  const { credentialScrubber } = await import("../../src/core/credential-scrub.ts");
  rememberCredentials("scrub-c", { api_key: "sk-stream-secret-abcdef" });
  const run = async (parts: string[]) => {
    const out: string[] = [];
    const w = credentialScrubber("scrub-c")!;
    const writer = w.writable.getWriter();
    const reader = w.readable.getReader();
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(new TextDecoder().decode(r.value));
    })();
    for (const p of parts) await writer.write(new TextEncoder().encode(p));
    await writer.close();
    await reading;
    return out;
  };
  expect((await run(["key: sk-str", "eam-secret-ab", "cdef done"])).join("")).toBe("key: <redacted> done");
  // text that is no start of a value goes on at once, each read as it comes
  expect(await run(["hello ", "world"])).toEqual(["hello ", "world"]);
  // a start that turns out not to be one is sent with the next read
  expect((await run(["ends with sk-s", "omething else"])).join("")).toBe("ends with sk-something else");
  expect(credentialScrubber("no-such-account")).toBeNull();
});

test("the streaming scrubber also cuts a masked form split across reads", async () => {
  const { credentialScrubber } = await import("../../src/core/credential-scrub.ts");
  rememberCredentials("scrub-d", { api_key: "sk-compact-secret-QRST" });
  const w = credentialScrubber("scrub-d")!;
  const writer = w.writable.getWriter();
  const out: string[] = [];
  const reading = (async () => {
    const reader = w.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(new TextDecoder().decode(r.value));
  })();
  for (const p of ["Incorrect API key provided: sk-com", "****", "******QR", "ST. Go"]) await writer.write(new TextEncoder().encode(p));
  await writer.close();
  await reading;
  expect(out.join("")).toBe("Incorrect API key provided: <redacted>. Go");
});
