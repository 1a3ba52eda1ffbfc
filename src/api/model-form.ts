/**
 * Multipart endpoints whose `model` field picks the account: POST /audio/transcriptions (type
 * `audio_transcription`), /audio/translations (`audio_translation`), /images/edits and /images/variations
 * (`image`). The model is checked like every other (access, and its type: without it, a 400 naming the model), the
 * form goes to the account with the upstream model id in place of the client's, and the answer comes back as the
 * account wrote it (JSON with `provider` added; text, SRT or VTT as they are; a stream as its stream). Usage, when
 * the answer reports it (token-billed models), is logged.
 */
import { isStrict } from "../http/sse.ts";
import type { Principal } from "../core/access.ts";
import { failed, startInference } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import type { ModelType } from "../providers/types.ts";
import { typeNotSupported } from "../core/resolve.ts";
import { GatewayError, missingParameter, readBodyBytes } from "../http/errors.ts";
import { formOf } from "../http/json-body.ts";
import { adapterFor } from "../providers/registry.ts";
import { answerAsWritten } from "./model-json.ts";

/** The multipart endpoints and the model type each needs. */
export const FORM_ENDPOINTS: readonly { path: string; type: ModelType; file: string }[] = [
  { path: "/audio/transcriptions", type: "audio_transcription", file: "file" },
  { path: "/audio/translations", type: "audio_translation", file: "file" },
  { path: "/images/edits", type: "image", file: "image" },
  { path: "/images/variations", type: "image", file: "image" },
];

export async function modelForm(gw: Gateway, p: Principal, request: Request, path: string, type: ModelType, file: string): Promise<Response> {
  // the limit checked (a body without content-length counted as it is read), then the form parsed
  const bytes = await readBodyBytes(request, gw.settings.maxBodyBytes);
  let form: FormData;
  try {
    form = await formOf(bytes, request.headers.get("content-type") ?? "");
  } catch {
    throw new GatewayError(400, `The body of ${path} must be multipart/form-data with '${file}' and 'model'`, { param: file });
  }
  const model = form.get("model");
  if (typeof model !== "string" || model === "") throw missingParameter("model");
  // image edits may send several images as image[]
  if (!(form.get(file) instanceof Blob) && !(form.get(`${file}[]`) instanceof Blob)) throw missingParameter(file);
  const call = startInference(gw, p, request, path.slice(1), type, model);
  const { target, log } = call;
  try {
    const adapter = adapterFor(target.account.provider, target.account.name);
    if (!adapter.postForm) throw typeNotSupported(type, target);
    form.set("model", target.model.modelId);
    return await answerAsWritten(call, await adapter.postForm(call, path, form), isStrict(request));
  } catch (e) {
    throw failed(log, e);
  }
}
