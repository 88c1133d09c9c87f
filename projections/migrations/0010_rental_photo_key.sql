-- A rental's photo by its media-store key (sha256 hex, as the owner's webhook stated
-- it; '' without a photo): join media.store_key to see whether its download is stored.
ALTER TABLE rental_listings ADD COLUMN IF NOT EXISTS photo_key text NOT NULL DEFAULT '';
