ALTER TABLE "sources" ADD COLUMN "document_hash" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "document_items" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "document_schedule" jsonb;