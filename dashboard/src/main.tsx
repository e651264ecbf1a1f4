import { render } from "preact";
import { App } from "./app.tsx";
import "./styles/base.css";
import "./styles/shell.css";
import "./styles/controls.css";
import "./styles/tables-forms.css";
import "./styles/graphs.css";
import "./styles/panels.css";
import "./styles/pages.css";
import "./styles/phones.css";

const root = document.getElementById("app");
if (root) render(<App />, root);
