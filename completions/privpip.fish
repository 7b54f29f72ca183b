function _privpip_completion;
    set -l response (env _PRIVPIP_COMPLETE=fish_complete COMP_WORDS=(commandline -cp) \
COMP_CWORD=(commandline -t) privpip);

    for completion in $response;
        set -l metadata (string split -m 2 \t -- $completion);

        if test "$metadata[1]" = "dir";
            __fish_complete_directories $metadata[2];
        else if test "$metadata[1]" = "file";
            __fish_complete_path $metadata[2];
        else if test "$metadata[1]" = "plain";
            if test -n "$metadata[3]";
                printf '%s\t%s\n' $metadata[2] $metadata[3];
            else;
                printf '%s\n' $metadata[2];
            end;
        end;
    end;
end;

complete --no-files --command privpip --arguments "(_privpip_completion)";
