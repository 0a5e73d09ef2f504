"""What every HTTP edge (the API, the receiver) does to what comes in before the domain sees it."""
