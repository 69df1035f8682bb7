// A copy button: writes `text` to the clipboard in the browser (no server round trip) and
// says "Copied" for a moment, in a polite live region so a screen reader hears it too.
// The text is only ever passed to the Clipboard API, never rendered as HTML.
import { useEffect, useRef, useState } from "react";
import { Button } from "@radix-ui/themes";
import { Check, Copy } from "lucide-react";

const CONFIRM_MS = 2000;

export function CopyButton({ text, label, testId }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text ?? "");
    } catch (e) {
      return;
    }
    setCopied(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), CONFIRM_MS);
  };
  return (
    <Button
      type="button"
      size="1"
      variant="ghost"
      color="gray"
      onClick={copy}
      aria-label={label}
      data-testid={testId}
      className="copy-button"
    >
      {copied ? <Check size={14} aria-hidden="true" /> : <Copy size={14} aria-hidden="true" />}
      <span aria-live="polite">{copied ? "Copied" : ""}</span>
    </Button>
  );
}
