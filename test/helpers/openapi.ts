/** Checks gateway responses against OpenAI's official OpenAPI spec (../shared/specs/openai-openapi.yaml). */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { sharedPath } from "./shared.ts";

const SPEC = sharedPath("specs/openai-openapi.yaml");
let ajv: any;

function load() {
  if (ajv) return ajv;
  const spec = parse(readFileSync(SPEC, "utf8"));
  ajv = new (Ajv2020 as any)({ strict: false, allErrors: true, validateFormats: false });
  (addFormats as any)(ajv);
  ajv.addSchema({ $id: "openai", components: fixNullable(spec.components) }, "openai");
  return ajv;
}

/** Returns the validation errors (empty when the value matches components.schemas[name]). */
export function schemaErrors(name: string, value: unknown): string[] {
  const a = load();
  const validate = a.getSchema(`openai#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in the OpenAI spec`);
  return validate(value) ? [] : validate.errors.map((e: any) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

/** The spec mixes OpenAPI 3.0's `nullable` into 3.1 schemas: turn it into a JSON-schema type union. */
function fixNullable(v: any): any {
  if (Array.isArray(v)) return v.map(fixNullable);
  if (!v || typeof v !== "object") return v;
  const out: any = {};
  for (const [k, x] of Object.entries(v)) if (k !== "nullable") out[k] = fixNullable(x);
  if (v.nullable !== true) return out;
  if (out.enum) out.enum = [...out.enum, null];
  if (typeof out.type === "string") {
    out.type = [out.type, "null"];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}
