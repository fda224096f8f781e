// The official openai SDK, pointed with its base URL at a server (sse
// replay --serve of a recorded chat completions stream): prints the text
// deltas of a streamed completion, then "|done". tests/replay.bats runs it.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-test",
    maxRetries: 0, timeout: 15000 });
const stream = await client.chat.completions.create({
    model: "m", stream: true,
    messages: [{ role: "user", content: "Hi" }],
});
let text = "";
for await (const chunk of stream)
    text += chunk.choices[0]?.delta?.content ?? "";
console.log(text + "|done");
