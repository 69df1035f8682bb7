// The streamed reply, accumulated in the browser: the server sends each new piece once
// (`chunk`, numbered by `index`) instead of the whole text again on every delta. `streamKey`
// changes whenever the server starts the text over (a new turn, a retry, a page load), and
// `base` is the text at that point. Rendered as markdown with raw HTML skipped: content is
// never interpreted as HTML.
import { useRef } from "react";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";

const SAFE_SCHEMES = /^(https?:|mailto:)/i;

function safeUrl(url) {
  return SAFE_SCHEMES.test(url) ? url : "";
}

function SafeLink({ href, children }) {
  return href ? (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  ) : (
    <span>{children}</span>
  );
}

export function LiveText({ streamKey, base, chunk, index }) {
  const acc = useRef({ key: null, index: 0, text: "" });
  const seen = acc.current;
  if (seen.key !== streamKey) {
    seen.key = streamKey;
    seen.index = 0;
    seen.text = base;
  }
  // Render may run twice for the same props: a piece is appended once, by its number.
  if (index === seen.index + 1) {
    seen.text += chunk;
    seen.index = index;
  } else if (index > seen.index + 1) {
    // Pieces were missed (a reconnect): the page load that follows restarts the stream.
    seen.index = index;
  }
  return (
    <ReactMarkdown
      remarkPlugins={[remarkGfm]}
      skipHtml={true}
      urlTransform={safeUrl}
      disallowedElements={["img"]}
      unwrapDisallowed={true}
      components={{ a: SafeLink }}
    >
      {seen.text}
    </ReactMarkdown>
  );
}
