import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { takeTokenFromAddress } from "./session";
import "./styles.css";

// Read once, before the first render: the address is cleaned as the token is taken from it. Without
// one, the app resumes this browser's session (its cookie), if any.
const initialToken = takeTokenFromAddress();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App initialToken={initialToken} />
  </StrictMode>,
);
