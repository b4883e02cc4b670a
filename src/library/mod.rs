//! The user's images: SQLite catalogue, image files and thumbnails.
