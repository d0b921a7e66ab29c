CREATE TABLE "archived_items" (
	"dedup_key" text PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "archived_items" ADD CONSTRAINT "archived_items_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;