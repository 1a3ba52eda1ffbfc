/**
 * OpenAI message content (a string or an array of parts) → Anthropic content blocks.
 *
 * - `text` → text block; `refusal` (assistant) → text block.
 * - `image_url` with an http(s) URL → image block with a URL source; with a `data:image/…;base64,` URI →
 *   base64 source. A `data:application/pdf;base64,` URI, or any URL declared `mime_type: application/pdf`
 *   (on the part or on `image_url`), → `document` block (PDF support).
 * - `file` → `document` block: `file_data` (a data URI or bare base64, PDF unless the data URI says an image
 *   or text/plain), or `file_id` → Anthropic Files API source (adds the `files-api-2025-04-14` beta; the id
 *   must be an Anthropic file id).
 * - `cache_control` on a part is passed through unchanged.
 *
 * Empty text parts are left out: Anthropic rejects empty text blocks. So are text parts that are only
 * whitespace, except in tool results: Anthropic rejects a message whose text is only whitespace ("text content
 * blocks must contain non-whitespace text"), and such text, kept from an earlier answer ("\n\n" before a tool
 * call) or typed by a user, would make every later turn of the conversation fail. A tool's output is kept as it
 * is (Anthropic accepts whitespace there, and it is the tool's answer).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision
 * @see https://docs.anthropic.com/en/docs/build-with-claude/pdf-support
 * @see https://docs.anthropic.com/en/docs/build-with-claude/files
 */
import { badRequest } from "../../http/errors.ts";
import type { AnthropicContentBlock } from "./anthropic-types.ts";

/** What one translation collects besides the body: betas to send and notes for the log. */
export interface TranslationAcc {
  betas: Set<string>;
  notes: string[];
}

export const FILES_API_BETA = "files-api-2025-04-14";

/** Image types Anthropic accepts. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

/** Which part types each role may carry. */
export type ContentRole = "system" | "user" | "assistant" | "tool";

export function toAnthropicContent(
  content: unknown,
  path: string,
  role: ContentRole,
  acc: TranslationAcc,
): AnthropicContentBlock[] {
  if (content == null) return [];
  if (typeof content === "string") return isLeftOut(content, role) ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw badRequest(`${path} must be a string or an array of content parts`, path);
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((part, j) => {
    const block = toBlock(part, `${path}[${j}]`, role, acc);
    if (!block) return;
    if (part.cache_control != null) (block as any).cache_control = part.cache_control;
    blocks.push(block);
  });
  return blocks;
}

function toBlock(part: any, path: string, role: ContentRole, acc: TranslationAcc): AnthropicContentBlock | undefined {
  if (!part || typeof part !== "object") throw badRequest(`${path} must be a content part object`, path);
  switch (part.type) {
    case "text":
      if (typeof part.text !== "string") throw badRequest(`${path}.text must be a string`, `${path}.text`);
      return isLeftOut(part.text, role) ? undefined : { type: "text", text: part.text };
    case "refusal":
      if (role !== "assistant") break;
      if (typeof part.refusal !== "string") throw badRequest(`${path}.refusal must be a string`, `${path}.refusal`);
      return isLeftOut(part.refusal, role) ? undefined : { type: "text", text: part.refusal };
    case "image_url":
      if (role !== "user" && role !== "tool") break;
      return imageUrlBlock(part, path);
    case "file":
      if (role !== "user") break;
      return fileBlock(part, path, acc);
    case "input_audio":
      throw badRequest(`${path}: audio input is not supported by Anthropic models`, `${path}.type`, "unsupported_content");
  }
  throw badRequest(
    `${path}: content part type '${String(part.type)}' is not supported in a ${role} message`,
    `${path}.type`,
  );
}

/** Text Anthropic would reject: empty, or (outside tool results) only whitespace. */
function isLeftOut(text: string, role: ContentRole): boolean {
  return text === "" || (role !== "tool" && isBlank(text));
}

/** Only whitespace (any Unicode space, tab or line break). */
export function isBlank(text: string): boolean {
  return !/\S/.test(text);
}

function imageUrlBlock(part: any, path: string): AnthropicContentBlock {
  const imageUrl = part.image_url;
  const url = typeof imageUrl === "string" ? imageUrl : imageUrl?.url;
  if (typeof url !== "string" || url === "") {
    throw badRequest(`${path}.image_url.url must be a non-empty string`, `${path}.image_url.url`);
  }
  const declared: unknown = imageUrl?.mime_type ?? imageUrl?.format ?? part.mime_type;
  const data = parseDataUrl(url);
  if (data) return blockForData(data.mediaType, data, `${path}.image_url.url`);
  if (!/^https?:\/\//i.test(url)) {
    throw badRequest(`${path}.image_url.url must be an http(s) URL or a data: URI`, `${path}.image_url.url`);
  }
  if (declared === "application/pdf") return { type: "document", source: { type: "url", url } };
  return { type: "image", source: { type: "url", url } };
}

function fileBlock(part: any, path: string, acc: TranslationAcc): AnthropicContentBlock {
  const file = part.file;
  if (!file || typeof file !== "object") throw badRequest(`${path}.file must be an object`, `${path}.file`);
  if (typeof file.file_data === "string" && file.file_data !== "") {
    const data = parseDataUrl(file.file_data) ?? {
      mediaType: mediaTypeFromName(file.filename) ?? "application/pdf",
      base64: true,
      payload: file.file_data,
    };
    return blockForData(data.mediaType, data, `${path}.file.file_data`);
  }
  if (typeof file.file_id === "string" && file.file_id !== "") {
    acc.betas.add(FILES_API_BETA);
    return { type: "document", source: { type: "file", file_id: file.file_id } };
  }
  throw badRequest(`${path}.file needs file_data or file_id`, `${path}.file`);
}

function blockForData(mediaType: string, data: DataUrl, param: string): AnthropicContentBlock {
  if (mediaType === "application/pdf") {
    if (!data.base64) throw badRequest(`${param}: a PDF data URI must be base64-encoded`, param);
    return { type: "document", source: { type: "base64", media_type: mediaType, data: data.payload } };
  }
  if (IMAGE_TYPES.has(mediaType)) {
    if (!data.base64) throw badRequest(`${param}: an image data URI must be base64-encoded`, param);
    return { type: "image", source: { type: "base64", media_type: mediaType, data: data.payload } };
  }
  if (mediaType === "text/plain") {
    const text = data.base64 ? Buffer.from(data.payload, "base64").toString("utf8") : decodeURIComponent(data.payload);
    return { type: "document", source: { type: "text", media_type: "text/plain", data: text } };
  }
  throw badRequest(
    `${param}: media type '${mediaType}' is not supported by Anthropic (images: jpeg, png, gif, webp; documents: pdf, text/plain)`,
    param,
  );
}

interface DataUrl {
  mediaType: string;
  base64: boolean;
  payload: string;
}

/** `data:[<media type>][;param…][;base64],<payload>` — undefined when not a data URI. */
export function parseDataUrl(url: string): DataUrl | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma).split(";");
  const mediaType = (meta[0] || "text/plain").trim().toLowerCase();
  return { mediaType, base64: meta.slice(1).some((m) => m.trim().toLowerCase() === "base64"), payload: url.slice(comma + 1) };
}

function mediaTypeFromName(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const ext = name.toLowerCase().split(".").pop();
  if (ext === "pdf") return "application/pdf";
  if (ext === "txt" || ext === "md") return "text/plain";
  if (ext === "png") return "image/png";
  if (ext === "jpg" || ext === "jpeg") return "image/jpeg";
  if (ext === "gif") return "image/gif";
  if (ext === "webp") return "image/webp";
  return undefined;
}
