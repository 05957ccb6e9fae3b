// C0 control characters and DEL (U+0000–U+001F, U+007F). No OAuth or OpenID Connect parameter may
// carry them (RFC 6749 Appendix A limits values to printable ASCII or UNICODECHARNOCRLF without
// controls), PostgreSQL refuses NUL in text outright, and in names, URIs and logs they only ever
// serve to hide or split what a person reads.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}
