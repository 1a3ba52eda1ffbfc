/** The fixed OpenAI chat completion every benchmark upstream answers with. */
export const COMPLETION = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_770_000_000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21, prompt_tokens_details: { cached_tokens: 0 } },
};
