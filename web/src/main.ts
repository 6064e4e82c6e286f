/** Entry point of the browser client. The real UI comes later. */

const app = document.querySelector<HTMLDivElement>("#app");
if (app !== null) app.textContent = "textport";
