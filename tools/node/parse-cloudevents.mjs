// Parses Kafka records with the CloudEvents JavaScript SDK's Kafka binding (npm `cloudevents`).
// Reads a JSON array of records on stdin, each {"headers": {name: value}, "key": str, "value": str}
// as read from Kafka (strings, UTF-8), and prints a JSON array with, for each record, either
// {"event": {...attributes and data of the parsed event...}} or {"error": "..."}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Kafka } = require("cloudevents");

const records = JSON.parse(readFileSync(0, "utf8"));
const results = records.map((record) => {
  const message = { headers: record.headers, key: record.key, value: record.value };
  try {
    if (!Kafka.isEvent(message)) {
      return { error: "not a CloudEvent (Kafka.isEvent)" };
    }
    const event = Kafka.toEvent(message);
    if (Array.isArray(event)) {
      return { error: "a batch, not one event" };
    }
    event.validate();
    return { event: JSON.parse(JSON.stringify(event)) };
  } catch (error) {
    return { error: `${error.name}: ${error.message} ${JSON.stringify(error.errors ?? "")}` };
  }
});
console.log(JSON.stringify(results));
