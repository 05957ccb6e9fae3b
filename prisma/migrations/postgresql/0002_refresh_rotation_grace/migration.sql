-- Refresh rotation grace window: the sealed successor response on the rotated-away token.
ALTER TABLE "tokens" ADD COLUMN "successorSealed" TEXT;
ALTER TABLE "tokens" ADD COLUMN "successorSealedUntil" TIMESTAMP(3);

-- Revoking a grant also withdraws the codes that would mint more tokens from it.
ALTER TABLE "authorization_codes" ADD COLUMN "revokedAt" TIMESTAMP(3);
ALTER TABLE "device_codes" ADD COLUMN "revokedAt" TIMESTAMP(3);
