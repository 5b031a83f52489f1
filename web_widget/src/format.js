// Bot text to DOM nodes, never through innerHTML: paragraphs, "- " or "• "
// lists, and links for web addresses, email addresses and UK phone numbers.

const LINKS = new RegExp(
  [
    String.raw`\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)`, // [label](url)
    String.raw`(https?:\/\/[^\s<>"]+)`, // bare URL
    String.raw`([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)`, // email
    // UK numbers: "01632 960 000" style and 116 123; 999/111/101 only after "call"
    String.raw`(?<![\w])((?:0\d{2,4}(?: ?\d){6,8})|116 ?123|(?<=\bcall )(?:999|111|101))(?![\w])`,
  ].join("|"),
  "g",
);

function newTabHint(doc) {
  const hint = doc.createElement("span");
  hint.className = "msp-visually-hidden";
  hint.textContent = " (opens in a new tab)";
  return hint;
}

function link(doc, href, label, newTab) {
  const a = doc.createElement("a");
  a.href = href;
  a.textContent = label;
  if (newTab) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.append(newTabHint(doc));
  }
  return a;
}

// Append text to `parent`, turning links, emails and phone numbers into <a>.
export function appendInline(doc, parent, text) {
  let last = 0;
  for (const m of text.matchAll(LINKS)) {
    let [whole, mdLabel, mdUrl, url, email, phone] = m;
    let end = m.index + whole.length;
    if (url) {
      // Leave sentence punctuation outside the link.
      const trimmed = url.replace(/[.,;:!?'’)]+$/, "");
      end -= url.length - trimmed.length;
      url = trimmed;
    }
    parent.append(doc.createTextNode(text.slice(last, m.index)));
    if (mdUrl) parent.append(link(doc, mdUrl, mdLabel, true));
    else if (url) parent.append(link(doc, url, url, true));
    else if (email) parent.append(link(doc, `mailto:${email}`, email, false));
    else if (phone) parent.append(link(doc, `tel:${phone.replace(/\s+/g, "")}`, phone, false));
    last = end;
  }
  parent.append(doc.createTextNode(text.slice(last)));
}

const BULLET = /^\s*(?:[-•*])\s+/;

// A document fragment of <p> and <ul> for a bot message.
export function formatText(doc, text) {
  const fragment = doc.createDocumentFragment();
  let list = null;
  for (const line of String(text).split(/\n/)) {
    if (!line.trim()) {
      list = null;
      continue;
    }
    if (BULLET.test(line)) {
      if (!list) {
        list = doc.createElement("ul");
        fragment.append(list);
      }
      const li = doc.createElement("li");
      appendInline(doc, li, line.replace(BULLET, ""));
      list.append(li);
    } else {
      list = null;
      const p = doc.createElement("p");
      appendInline(doc, p, line);
      fragment.append(p);
    }
  }
  return fragment;
}
