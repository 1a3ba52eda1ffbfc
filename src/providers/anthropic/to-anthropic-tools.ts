/**
 * OpenAI `tools`, `tool_choice`, `parallel_tool_calls` and `response_format` → Anthropic `tools` and
 * `tool_choice`.
 *
 * Structured output uses a forced tool, for every model: the JSON schema becomes the `input_schema`
 * of one tool (`json_output`), `tool_choice` forces it, and the response translators turn that tool's
 * input back into `message.content` JSON text with finish_reason `stop`. Why not Anthropic's native
 * structured output (`output_config.format`, formerly `output_format` with the
 * `structured-outputs-2025-11-13` beta)? It exists only for some models (Claude Sonnet 4.5/4.6,
 * Opus 4.5/4.6, Haiku 4.5 on the Claude API at the time of writing), its availability differs on
 * Vertex AI and Bedrock (which reuse these translators), it restricts the JSON Schema features it
 * accepts, and its request shape moved between the beta and GA. The forced tool works on every Claude
 * model and every platform with any schema. `json_object` gets the same tool with an open object schema.
 *
 * When the client also sends tools, the JSON tool is added to them and `tool_choice` becomes `any`
 * (the model either calls a client tool or answers through the JSON tool), `tool` when the client named
 * one, and just the JSON tool when the client said `none`.
 *
 * `strict: true` schemas are checked like OpenAI does (every property listed in `required`,
 * `additionalProperties: false` on every object) so a schema OpenAI would reject is rejected here
 * before any upstream call. The `strict` flag itself is not forwarded (Anthropic's strict tool use is
 * model-dependent).
 *
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use
 * @see https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs
 */
import { badRequest } from "../../http/errors.ts";
import type { AnthropicTool, AnthropicToolChoice } from "./anthropic-types.ts";

export const JSON_OUTPUT_TOOL = "json_output";

export interface ToolsTranslation {
  tools?: AnthropicTool[];
  toolChoice?: AnthropicToolChoice;
  /** name of the gateway's structured-output tool, when one was added */
  jsonTool?: string;
  /** the client itself asked for a forced tool call (`required` or a named function) */
  clientForcedTool: boolean;
}

export function toAnthropicTools(body: Record<string, any>): ToolsTranslation {
  const tools = convertTools(body.tools);
  let toolChoice = convertToolChoice(body.tool_choice, tools);
  const clientForcedTool = toolChoice?.type === "any" || toolChoice?.type === "tool";
  const json = jsonOutputTool(body.response_format);
  let jsonTool: string | undefined;
  let result = tools;

  if (json) {
    if (tools?.some((t) => t.name === JSON_OUTPUT_TOOL)) {
      throw badRequest(`tool name '${JSON_OUTPUT_TOOL}' is reserved for response_format on Anthropic models`, "tools");
    }
    jsonTool = JSON_OUTPUT_TOOL;
    if (!tools || tools.length === 0 || toolChoice?.type === "none") {
      result = [json];
      toolChoice = { type: "tool", name: JSON_OUTPUT_TOOL };
    } else {
      result = [...tools, json];
      if (toolChoice?.type !== "tool") toolChoice = { type: "any" };
    }
  }

  if (body.parallel_tool_calls === false && toolChoice?.type !== "none" && result && result.length > 0) {
    toolChoice = { ...(toolChoice ?? { type: "auto" }), disable_parallel_tool_use: true } as AnthropicToolChoice;
  }
  // Anthropic rejects a tool_choice without tools
  if (!result || result.length === 0) toolChoice = undefined;
  return { tools: result, toolChoice, jsonTool, clientForcedTool };
}

function convertTools(tools: unknown): AnthropicTool[] | undefined {
  if (tools == null) return undefined;
  if (!Array.isArray(tools)) throw badRequest("tools must be an array", "tools");
  return tools.map((tool: any, i): AnthropicTool => {
    const path = `tools[${i}]`;
    if (!tool || typeof tool !== "object") throw badRequest(`${path} must be an object`, path);
    if (tool.type !== "function") {
      throw badRequest(`${path}.type '${String(tool.type)}' is not supported for Anthropic models (only 'function')`, `${path}.type`);
    }
    const fn = tool.function;
    if (typeof fn?.name !== "string" || fn.name === "") {
      throw badRequest(`${path}.function.name must be a non-empty string`, `${path}.function.name`);
    }
    const params = fn.parameters;
    if (params != null && (typeof params !== "object" || Array.isArray(params))) {
      throw badRequest(`${path}.function.parameters must be a JSON Schema object`, `${path}.function.parameters`);
    }
    const out: AnthropicTool = { name: fn.name, input_schema: objectSchema(params) };
    if (typeof fn.description === "string" && fn.description !== "") out.description = fn.description;
    const cacheControl = tool.cache_control ?? fn.cache_control;
    if (cacheControl != null) out.cache_control = cacheControl;
    return out;
  });
}

/** Anthropic's input_schema must be an object schema; OpenAI allows omitting parameters. */
function objectSchema(schema: Record<string, any> | undefined): Record<string, unknown> {
  if (!schema || Object.keys(schema).length === 0) return { type: "object", properties: {} };
  return schema.type == null ? { type: "object", ...schema } : schema;
}

function convertToolChoice(choice: unknown, tools: AnthropicTool[] | undefined): AnthropicToolChoice | undefined {
  if (choice == null) return undefined;
  if (choice === "auto") return { type: "auto" };
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any" };
  const c = choice as any;
  if (c && typeof c === "object" && c.type === "function" && typeof c.function?.name === "string") {
    const name = c.function.name;
    if (!tools?.some((t) => t.name === name)) {
      throw badRequest(`tool_choice names function '${name}', which is not in tools`, "tool_choice");
    }
    return { type: "tool", name };
  }
  throw badRequest("tool_choice must be 'auto', 'none', 'required' or {type:'function', function:{name}}", "tool_choice");
}

function jsonOutputTool(format: unknown): AnthropicTool | undefined {
  if (format == null) return undefined;
  const f = format as any;
  if (typeof f !== "object") throw badRequest("response_format must be an object", "response_format");
  if (f.type === "text") return undefined;
  if (f.type === "json_object") {
    return {
      name: JSON_OUTPUT_TOOL,
      description: "Respond with a JSON object.",
      input_schema: { type: "object", additionalProperties: true },
    };
  }
  if (f.type === "json_schema") {
    const spec = f.json_schema;
    if (!spec || typeof spec !== "object" || typeof spec.name !== "string" || spec.name === "") {
      throw badRequest("response_format.json_schema.name must be a non-empty string", "response_format");
    }
    const schema = spec.schema ?? { type: "object", additionalProperties: true };
    if (typeof schema !== "object" || Array.isArray(schema)) {
      throw badRequest("response_format.json_schema.schema must be a JSON Schema object", "response_format");
    }
    if (schema.type != null && schema.type !== "object") {
      throw badRequest(
        `Invalid schema for response_format '${spec.name}': the root must be an object for Anthropic models (got '${String(schema.type)}')`,
        "response_format",
      );
    }
    if (spec.strict === true) checkStrictSchema(schema, spec.name);
    const description = `Respond with a JSON object (${spec.name})${typeof spec.description === "string" ? `: ${spec.description}` : "."}`;
    return { name: JSON_OUTPUT_TOOL, description, input_schema: objectSchema(schema) };
  }
  throw badRequest(`response_format.type '${String(f.type)}' is not supported`, "response_format");
}

/**
 * OpenAI's strict-mode rules for a schema, with OpenAI's wording: every object lists all its
 * properties in `required` and sets `additionalProperties: false`.
 *
 * @see https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */
export function checkStrictSchema(schema: unknown, name: string, context: string[] = []): void {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    schema.forEach((s, i) => checkStrictSchema(s, name, [...context, String(i)]));
    return;
  }
  const node = schema as Record<string, any>;
  const isObject = node.type === "object" || (Array.isArray(node.type) && node.type.includes("object")) || node.properties != null;
  const where = `context=(${context.map((c) => `'${c}'`).join(", ")}${context.length === 1 ? "," : ""})`;
  if (isObject) {
    const props = Object.keys(node.properties ?? {});
    const required: unknown[] = Array.isArray(node.required) ? node.required : [];
    const missing = props.find((p) => !required.includes(p));
    if (missing !== undefined) {
      throw badRequest(
        `Invalid schema for response_format '${name}': In ${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`,
        "response_format",
      );
    }
    if (node.additionalProperties !== false) {
      throw badRequest(
        `Invalid schema for response_format '${name}': In ${where}, 'additionalProperties' is required to be supplied and to be false.`,
        "response_format",
      );
    }
  }
  for (const key of ["properties", "$defs", "definitions"]) {
    const map = node[key];
    if (map && typeof map === "object") {
      for (const [k, v] of Object.entries(map)) checkStrictSchema(v, name, [...context, key, k]);
    }
  }
  for (const key of ["items", "anyOf", "oneOf", "allOf", "prefixItems"]) {
    if (node[key] != null) checkStrictSchema(node[key], name, [...context, key]);
  }
}
