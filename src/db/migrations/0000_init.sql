CREATE TABLE "fetch_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"outcome" text NOT NULL,
	"http_status" integer,
	"bytes" integer,
	"items_new" integer DEFAULT 0 NOT NULL,
	"items_duplicate" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "item_bands" (
	"band" text NOT NULL,
	"item_id" bigint NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	CONSTRAINT "item_bands_band_item_id_pk" PRIMARY KEY("band","item_id")
);
--> statement-breakpoint
CREATE TABLE "items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"story_id" text NOT NULL,
	"dedup_key" text NOT NULL,
	"title_key" text NOT NULL,
	"content_hash" text NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"date_estimated" boolean DEFAULT false NOT NULL,
	"guid" text,
	"url" text,
	"short_url" text,
	"title" text NOT NULL,
	"summary" text,
	"content_html" text,
	"content_text" text,
	"author" text,
	"categories" text[] DEFAULT '{}'::text[] NOT NULL,
	"language" text,
	"image_url" text,
	"title_signature" integer[] NOT NULL,
	"body_signature" integer[] NOT NULL,
	"shingle_count" integer NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sources" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"title" text,
	"site_url" text,
	"poll_seconds" integer NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"fetch_url" text,
	"redirect_target" text,
	"redirect_count" integer DEFAULT 0 NOT NULL,
	"gone_at" timestamp with time zone,
	"etag" text,
	"last_modified" text,
	"next_check_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"last_fetched_at" timestamp with time zone,
	"last_status" text,
	"error_count" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stories" (
	"id" text PRIMARY KEY NOT NULL,
	"representative_item_id" bigint,
	"published_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topic_stories" (
	"topic_slug" text NOT NULL,
	"story_id" text NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"matched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "topic_stories_topic_slug_story_id_pk" PRIMARY KEY("topic_slug","story_id")
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"slug" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"query" text NOT NULL,
	"definition_hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fetch_log" ADD CONSTRAINT "fetch_log_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_bands" ADD CONSTRAINT "item_bands_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "items" ADD CONSTRAINT "items_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "items" ADD CONSTRAINT "items_story_id_stories_id_fk" FOREIGN KEY ("story_id") REFERENCES "public"."stories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_stories" ADD CONSTRAINT "topic_stories_topic_slug_topics_slug_fk" FOREIGN KEY ("topic_slug") REFERENCES "public"."topics"("slug") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_stories" ADD CONSTRAINT "topic_stories_story_id_stories_id_fk" FOREIGN KEY ("story_id") REFERENCES "public"."stories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fetch_log_source_idx" ON "fetch_log" USING btree ("source_id","started_at");--> statement-breakpoint
CREATE INDEX "item_bands_window_idx" ON "item_bands" USING btree ("band","published_at");--> statement-breakpoint
CREATE INDEX "item_bands_item_idx" ON "item_bands" USING btree ("item_id");--> statement-breakpoint
CREATE UNIQUE INDEX "items_identity_idx" ON "items" USING btree ("dedup_key");--> statement-breakpoint
CREATE INDEX "items_url_idx" ON "items" USING btree ("url");--> statement-breakpoint
CREATE INDEX "items_short_url_idx" ON "items" USING btree ("short_url");--> statement-breakpoint
CREATE INDEX "items_title_key_idx" ON "items" USING btree ("title_key","published_at");--> statement-breakpoint
CREATE INDEX "items_story_idx" ON "items" USING btree ("story_id");--> statement-breakpoint
CREATE INDEX "items_source_published_idx" ON "items" USING btree ("source_id","published_at");--> statement-breakpoint
CREATE INDEX "items_first_seen_idx" ON "items" USING btree ("first_seen_at");--> statement-breakpoint
CREATE INDEX "sources_next_check_idx" ON "sources" USING btree ("next_check_at");--> statement-breakpoint
CREATE INDEX "stories_published_idx" ON "stories" USING btree ("published_at");--> statement-breakpoint
CREATE INDEX "topic_stories_feed_idx" ON "topic_stories" USING btree ("topic_slug","published_at" DESC NULLS FIRST,"story_id" DESC NULLS FIRST);