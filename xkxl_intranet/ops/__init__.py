"""Operations: backup and restore of one instance."""
