import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { loadToken, takeTokenFromAddress } from "./session";
import "./styles.css";

// Read once, before the first render: the address is cleaned as the token is taken from it.
const initialToken = takeTokenFromAddress() ?? loadToken();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App initialToken={initialToken} />
  </StrictMode>,
);
