// Prisma error codes, checked by code rather than class: each dialect has its own generated client.
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
