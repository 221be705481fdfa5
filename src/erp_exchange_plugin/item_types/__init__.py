"""The built-in item types (contacts; calendar and tasks follow), registered through our own hook."""
