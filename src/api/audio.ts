/**
 * POST /audio/transcriptions and /audio/translations (multipart/form-data): the model is checked like every other
 * (access, and the model's `audio_transcription` / `audio_translation` type: without it, a 400 naming the model),
 * the form goes to the account with the upstream model id in place of the client's, and the answer comes back as
 * the account wrote it (JSON with `provider` added; text, SRT or VTT as they are; a streamed transcription as its
 * stream). Usage, when the answer reports it (token-billed models), is logged.
 */
import type { Principal } from "../core/access.ts";
import { failed, startInference } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { checkBodySize, GatewayError } from "../http/errors.ts";
import { adapterFor } from "../providers/registry.ts";
import { answerAsWritten } from "./model-json.ts";

export type AudioKind = "transcriptions" | "translations";

export async function audio(gw: Gateway, p: Principal, request: Request, kind: AudioKind): Promise<Response> {
  checkBodySize(request.headers, gw.settings.maxBodyBytes);
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new GatewayError(400, `The body of /audio/${kind} must be multipart/form-data with a 'file' and a 'model'`, { param: "file" });
  }
  const model = form.get("model");
  if (typeof model !== "string" || model === "") {
    throw new GatewayError(400, "Missing required parameter: 'model'", { param: "model", code: "missing_required_parameter" });
  }
  if (!(form.get("file") instanceof Blob)) {
    throw new GatewayError(400, "Missing required parameter: 'file'", { param: "file", code: "missing_required_parameter" });
  }
  const type = kind === "transcriptions" ? "audio_transcription" : "audio_translation";
  const call = startInference(gw, p, request, `audio/${kind}`, type, model);
  const { target, log } = call;
  try {
    const adapter = adapterFor(target.account.provider, target.account.name);
    if (!adapter.audio) throw new GatewayError(400, `${type} is not supported for the model ${target.id}`, { param: "model" });
    form.set("model", target.model.modelId);
    return await answerAsWritten(call, await adapter.audio(call, kind, form));
  } catch (e) {
    throw failed(log, e);
  }
}
