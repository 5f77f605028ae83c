/**
 * Text that people read: the thread's stage notes, messages and alerts are clipped to fit. The cut
 * never splits an `&…;` entity, so text that was escaped for a chat (Slack's `&amp;`) stays valid.
 */

/** Shortens text to at most `max` characters, marking the cut; never cuts an `&…;` entity in half. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let head = text.slice(0, max - 1);
  // An escaped value cut inside `&amp;` would show a stray `&am`; drop the partial entity instead.
  const partial = /&[a-z]{0,4}$/.exec(head);
  if (partial) head = head.slice(0, partial.index);
  return `${head}…`;
}
