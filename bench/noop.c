/* a static no-op: what spawn-floor starts */
int
main(void)
{
    return 0;
}
