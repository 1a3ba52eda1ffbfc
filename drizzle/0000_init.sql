CREATE TABLE `accounts` (
	`name` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`base_url` text,
	`auth_encrypted` text NOT NULL,
	`settings` text DEFAULT '{}' NOT NULL,
	`managers` text DEFAULT '[]' NOT NULL,
	`users` text DEFAULT '[]' NOT NULL,
	`source` text DEFAULT 'api' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`subject` text NOT NULL,
	`teams` text DEFAULT '[]' NOT NULL,
	`role` text DEFAULT 'user' NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE TABLE `models` (
	`account` text NOT NULL,
	`name` text NOT NULL,
	`model_id` text NOT NULL,
	`types` text NOT NULL,
	`cost` text,
	`authorized_subjects` text,
	`max_output_tokens` integer,
	FOREIGN KEY (`account`) REFERENCES `accounts`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `models_account_name` ON `models` (`account`,`name`);--> statement-breakpoint
CREATE TABLE `request_logs` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`ts` integer NOT NULL,
	`key_id` text,
	`subject` text,
	`account` text,
	`model` text,
	`endpoint` text NOT NULL,
	`method` text DEFAULT 'POST' NOT NULL,
	`status` integer NOT NULL,
	`stream` integer DEFAULT false NOT NULL,
	`latency_ms` real NOT NULL,
	`ttft_ms` real,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`cached_tokens` integer,
	`cache_write_tokens` integer,
	`reasoning_tokens` integer,
	`cost_usd` real,
	`metadata` text,
	`notes` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `request_logs_ts` ON `request_logs` (`ts`);