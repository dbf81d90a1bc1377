"""Services: they read what the pure analytics need from PostGIS in short transactions,
call the analytics with no connection held, and cache the results per data version.
The API routes, the map pages and the command line all go through them."""
