"""Distribution: posting approved clips to connected platform accounts through the platforms' official APIs."""
