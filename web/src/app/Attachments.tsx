/**
 * An MMS's attachments in its bubble: pictures inline (a thumbnail that opens
 * a dialog), other files as a download chip with name and size, and the ones
 * whose bytes were lost as "Attachment missing: <reason>". Bytes come from the
 * host on demand (pager.ts) and are shown from Blob URLs (the CSP allows blob:).
 */

import { useEffect, useRef, useState } from "preact/hooks";

import type { Client } from "../client/client";
import type { AttachmentRecord } from "../protocol/messages";
import { formatSize } from "./format";
import { useAttachment } from "./hooks";

export function isPicture(att: AttachmentRecord): boolean {
  return att.type.toLowerCase().startsWith("image/");
}

function Missing({ reason }: { reason: string }) {
  return <p class="att-missing">Attachment missing: {reason}</p>;
}

/** A full-size picture over the page: Escape, the Close button or a click outside closes it. */
export function PictureDialog({ url, alt, onClose }: { url: string; alt: string; onClose(): void }) {
  const close = useRef<HTMLButtonElement | null>(null);
  const closing = useRef(onClose);
  closing.current = onClose;
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    close.current?.focus();
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") {
        event.preventDefault();
        closing.current();
      } else if (event.key === "Tab") {
        event.preventDefault(); // the Close button is the only thing to focus in here
        close.current?.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      opener?.focus();
    };
  }, []);
  return (
    <div
      class="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={alt}
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <img class="full" src={url} alt={alt} />
      <button type="button" class="close" ref={close} aria-label="Close" onClick={onClose}>×</button>
    </div>
  );
}

function Picture({ client, att, version }: { client: Client; att: AttachmentRecord; version: number }) {
  const view = useAttachment(client, att.id, true, version);
  const [open, setOpen] = useState(false);
  const alt = att.name ?? "Picture";
  if (view.state === "failed") return <Missing reason={view.error} />;
  if (view.state === "loading") {
    return <span class="thumb loading" role="img" aria-label={`${alt} (loading)`} />;
  }
  return (
    <>
      <button type="button" class="thumb-button" aria-label={`Open ${alt}`} onClick={() => setOpen(true)}>
        <img class="thumb" src={view.url} alt={alt} />
      </button>
      {open && <PictureDialog url={view.url} alt={alt} onClose={() => setOpen(false)} />}
    </>
  );
}

function Download({ client, att, version }: { client: Client; att: AttachmentRecord; version: number }) {
  const [wanted, setWanted] = useState(false);
  const view = useAttachment(client, att.id, wanted, version);
  const link = useRef<HTMLAnchorElement | null>(null);
  const name = att.name ?? "Attachment";
  const label = `${name} (${formatSize(att.size)})`;
  // Asked for with a click: save it as soon as it is here.
  useEffect(() => {
    if (wanted && view.state === "ready") link.current?.click();
  }, [wanted, view.state]);
  if (view.state === "failed") return <Missing reason={view.error} />;
  if (view.state === "ready") {
    return <a class="chip" ref={link} href={view.url} download={name}>Download {label}</a>;
  }
  return (
    <button type="button" class="chip" disabled={wanted} onClick={() => setWanted(true)}>
      {wanted ? `Downloading ${label}…` : `Download ${label}`}
    </button>
  );
}

export function Attachments(props: { client: Client; atts: readonly AttachmentRecord[]; version: number }) {
  const { client, atts, version } = props;
  return (
    <ul class="atts">
      {atts.map((att) => (
        <li key={att.id}>
          {att.broken !== null
            ? <Missing reason={att.broken} />
            : isPicture(att)
              ? <Picture client={client} att={att} version={version} />
              : <Download client={client} att={att} version={version} />}
        </li>
      ))}
    </ul>
  );
}
