CREATE TABLE "push_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"hub" text NOT NULL,
	"topic" text NOT NULL,
	"secret" text NOT NULL,
	"state" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"reason" text,
	"pushed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "push_subscriptions_source_idx" ON "push_subscriptions" USING btree ("source_id");