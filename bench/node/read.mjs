// Reads one SSE stream with fetch and eventsource-parser, the most used
// JavaScript SSE parser, and prints one line of JSON: events, bytes, seconds.
// Usage: node read.mjs URL
import { createParser } from 'eventsource-parser';

const url = process.argv[2];
let events = 0;
let bytes = 0;
const parser = createParser({
  onEvent() {
    events++;
  },
});
const t0 = process.hrtime.bigint();
const res = await fetch(url, { headers: { Accept: 'text/event-stream' } });
if (res.status !== 200) {
  console.error(`read.mjs: HTTP status ${res.status}`);
  process.exit(1);
}
const decoder = new TextDecoder();
for await (const chunk of res.body) {
  bytes += chunk.length;
  parser.feed(decoder.decode(chunk, { stream: true }));
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ events, bytes, secs }));
