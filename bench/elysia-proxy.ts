import { Elysia, t } from "elysia";
const upstream = process.env.UPSTREAM!;
const app = new Elysia().post("/v1/chat/completions", async ({ body, request }) => {
  const res = await fetch(upstream + "/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer upstream" }, body: JSON.stringify(body) });
  return new Response(await res.text(), { status: res.status, headers: { "content-type": "application/json" } });
}, { body: t.Object({ model: t.String(), messages: t.Array(t.Object({ role: t.String() }, { additionalProperties: true })) }, { additionalProperties: true }), parse: "json" });
app.listen({ port: 0, hostname: "127.0.0.1" });
console.log(app.server!.port);
