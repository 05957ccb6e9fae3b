-- AlterTable
ALTER TABLE "oauth_clients" ADD COLUMN "isServiceAccount" BOOLEAN NOT NULL DEFAULT false;
