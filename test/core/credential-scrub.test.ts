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
