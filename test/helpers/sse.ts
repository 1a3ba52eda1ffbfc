/** The `data:` payloads of an SSE body as the client got it, in order (comments and other fields left out). */
export function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));
}
