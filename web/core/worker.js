// The decoding worker: core/host.js behind postMessage, so the page's thread only paints. Started
// by core/client.js (directly, or from a same-origin blob: module that imports this file when it
// lives on another origin, since a module worker's script must be same-origin).
import { Host } from './host.js';

const host = new Host((message, transfer) => postMessage(message, transfer));
onmessage = ({ data }) => host.handle(data);
postMessage({ op: 'hello' });
