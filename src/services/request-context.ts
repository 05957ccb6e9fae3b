/** Who is asking, as far as the transport knows; passed from the faces to the services for auditing. */
export interface RequestInfo {
  ip?: string;
  userAgent?: string;
}
