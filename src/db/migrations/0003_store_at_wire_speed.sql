ALTER TABLE "item_bands" DROP CONSTRAINT "item_bands_item_id_items_id_fk";
--> statement-breakpoint
ALTER TABLE "topic_stories" DROP CONSTRAINT "topic_stories_topic_slug_topics_slug_fk";
--> statement-breakpoint
ALTER TABLE "topic_stories" DROP CONSTRAINT "topic_stories_story_id_stories_id_fk";
--> statement-breakpoint
DROP INDEX "item_bands_window_idx";--> statement-breakpoint
ALTER TABLE "item_bands" DROP CONSTRAINT "item_bands_band_item_id_pk";--> statement-breakpoint
ALTER TABLE "item_bands" ALTER COLUMN "band" SET DATA TYPE bigint USING hashtextextended("band", 0);--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "raw_hash" text;--> statement-breakpoint
CREATE INDEX "items_raw_hash_idx" ON "items" USING btree ("raw_hash");--> statement-breakpoint
CREATE INDEX "topic_stories_story_idx" ON "topic_stories" USING btree ("story_id");--> statement-breakpoint
CREATE INDEX "item_bands_window_idx" ON "item_bands" USING btree ("band","published_at","item_id");