/**
 * Event parameter names libsinsp's event table knows, with the kind of their raw value (`n`
 * number, `s` string, `b` buffer or address). `evt.arg.<name>` / `evt.rawarg.<name>` on a name no
 * traced event has still compile (always null, with a warning), as they do in Falco.
 */
export const LIBS_PARAM_KINDS: ReadonlyMap<string, 'n' | 's' | 'b'> = new Map(
  [
    'action:n addr:b arg:n arg2:b arg2_int:n arg2_str:s arg3:b arg4:b arg5:b args:b argument:n argv:b',
    'aux:n backlog:n cap_effective:n cap_inheritable:n cap_permitted:n cgroups:b clockid:n cmd:n',
    'comm:s container_id:s core:n cpu:n cpu_sys:n cpu_usr:n cq_entries:n creat_flags:n cur:n cwd:s',
    'data:b desc:s description:s dev:s dir:s dirfd:n domain:n dpid:n dqb_bhardlimit:n',
    'dqb_bsoftlimit:n dqb_btime:n dqb_curspace:n dqb_ihardlimit:n dqb_isoftlimit:n dqb_itime:n',
    'dqi_bgrace:n dqi_flags:n dqi_igrace:n egid:n entries:n env:b error:n euid:n event_data:b',
    'event_type:n exe:s exe_ino:n exe_ino_ctime:n exe_ino_mtime:n exe_ino_num:n exepath:s fd:n fd1:n',
    'fd2:n fd_in:n fd_out:n fd_type:n fdin:n fdlimit:n fdout:n fds:b features:n filename:s first:n',
    'flags:n gid:n home:s how:n id:s image:s img:b in_fd:n initval:n ino:n ino_num:n interval:n ip:n',
    'json:s key:s last:n len:n length:n level:n linkdirfd:n linkpath:s local_ip:b local_port:n',
    'loginuid:n mask:n max:n maxevents:n min_complete:n mnt_id:n mode:n mountfd:n msgcontrol:b name:s',
    'newcur:n newdir:n newdirfd:n newfd:n newmax:n newpath:s next:n nr_args:n nsems:n nsops:n',
    'nstype:n offin:n offout:n offset:n oldcur:n olddir:n olddirfd:n oldfd:n oldmax:n oldpath:s op:n',
    'opcode:n operation:n option:n optlen:n optname:n out_fd:n path:s pathname:s peer:n pgft_maj:n',
    'pgft_min:n pgid:n pgoffset:n pid:n pid_fd:n pidns_init_start_ts:n plugin_id:n pos:n ppid:n',
    'prot:n proto:n ptid:n queuelen:n queuemax:n queuepct:n quota_fmt:n quota_fmt_out:n',
    'quotafilepath:s ratio:n reaper_tid:n remote_ip:b remote_port:n request:n res:n res_or_fd:b',
    'resolve:n resource:n ret:n rgid:n root:s ruid:n scope:s sem_flg_0:n sem_flg_1:n sem_num_0:n',
    'sem_num_1:n sem_op_0:n sem_op_1:n semflg:n semid:n semnum:n sgid:n shell:s sid:n sig:n sigmask:n',
    'size:n sk_pointer:n sk_proto:n sk_type:n source:s special:s spid:n sq_entries:n sq_thread_cpu:n',
    'sq_thread_idle:n start_time:n status:n suid:n sun_path:s tags:b target:s target_fd:n tid:n',
    'timeout:n to_submit:n trusted_exepath:s tty:n tuple:b type:s uargs:s uid:n val:b value_bytebuf:b',
    'value_charbuf:s vm_rss:n vm_size:n vm_swap:n vpgid:n vpid:n vtgid:n vtid:n whence:n',
  ]
    .join(' ')
    .split(' ')
    .map((e) => {
      const [name, kind] = e.split(':') as [string, 'n' | 's' | 'b'];
      return [name, kind];
    }),
);
