/**
 * The device harness in a browser: a test drives `window.textportDevice.call`
 * (e.g. through Playwright's `page.evaluate`) once the title is "harness ready".
 */

import { type Device, createDevice } from "./device";

declare global {
  interface Window {
    textportDevice: Device;
  }
}

window.textportDevice = createDevice();
document.title = "harness ready";
