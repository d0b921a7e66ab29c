DROP INDEX "topic_stories_story_idx";--> statement-breakpoint
ALTER TABLE "topic_stories" DROP CONSTRAINT "topic_stories_topic_slug_story_id_pk";--> statement-breakpoint
ALTER TABLE "topic_stories" ADD CONSTRAINT "topic_stories_story_id_topic_slug_pk" PRIMARY KEY("story_id","topic_slug");