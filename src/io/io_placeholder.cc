// Placeholder until the io implementations land.
