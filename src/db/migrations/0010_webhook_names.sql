DROP INDEX "webhook_deliveries_topic_idx";--> statement-breakpoint
ALTER TABLE "topics" ADD COLUMN "webhooks" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "webhook" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_queue_idx" ON "webhook_deliveries" USING btree ("topic_slug","webhook","id");--> statement-breakpoint
-- A topic that had a webhook had one, unnamed: its queue is the rows just given webhook ''.
UPDATE "topics" SET "webhooks" = '{""}'::text[] WHERE "notifies";
